from waldo.collect.model import ToolModel
from sqlmodel import Field

class User(ToolModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    email: str


class UserComment(ToolModel, table=True):
    id: str = Field(primary_key=True)
    user_id: str
    body: str
