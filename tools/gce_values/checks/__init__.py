"""The checks a merged conf goes through, each with its rule ids, and what they share with the commands.

Besides one module per check kind (run by registry.CHECKS) this holds the checkers the commands
call directly: credentials (the client_creds.env file, also read by `secret` and `smoke`) and
secretscan (secrets in a conf, also used by `migrate`).
"""
