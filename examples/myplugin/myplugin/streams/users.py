from typing import Iterable, Tuple

from waldo.collect import Stream, DomainType
from waldo.collect.domain_layer.crossdomain import User as DomainUser

from myplugin.api import MyAPI
from myplugin.models import User as ToolUser


class Users(Stream):
    tool_model = ToolUser
    domain_types = [DomainType.CROSS]

    def collect(self, state, context) -> Iterable[Tuple[object, dict]]:
        api = MyAPI(context.connection.url, context.connection.token)
        for user in api.users().json():
            yield user, state

    def convert(self, user: ToolUser) -> Iterable[DomainUser]:
        yield DomainUser(
            id=user.id,
            name=user.name,
            email=user.email
        )
