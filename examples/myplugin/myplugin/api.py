from waldo.collect.api import API, request_hook, TokenPaginator


class MyAPI(API):
    def __init__(self, url, token):
        self.url = url
        self.token = token

    def users(self):
        return self.get(f'{self.url}/users')

    @request_hook
    def authenticate(self, request):
        if self.token:
            request.headers['Token'] = self.token


class MyPluginAPI(MyAPI):
    paginator = TokenPaginator(
        items_attr='results',
        next_page_token_attr='nextPage',
        next_page_token_param='page'
    )

    def user_comments(self, user_id):
        return self.get(f'{self.url}/users/{user_id}/comments')
