"""The Solar-Log WEB Enerest API (a PV portal in the cloud): client, answers, history.

Plain Python, no Home Assistant: endpoints.py holds what the documentation leaves open,
auth.py the access token, client.py the calls, models.py their answers.
"""
