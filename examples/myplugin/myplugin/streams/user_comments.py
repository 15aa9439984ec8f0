from waldo.collect import Substream, DomainType

from myplugin.api import MyPluginAPI
from myplugin.models import User, UserComment
from myplugin.streams.users import Users


class UserComments(Substream):
    parent_stream = Users # Must specify the parent stream
    tool_model = UserComment
    domain_types = [DomainType.CROSS]

    def collect(self, state: dict, context, user: User):
        """
        This method will be called for each user collected from parent stream Users.
        """
        for json in MyPluginAPI(context.connection.url, context.connection.token).user_comments(user.id):
            yield json, state
