from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "prt.web.accounts"
    label = "accounts"
    verbose_name = "Accounts: sites, users, roles"
