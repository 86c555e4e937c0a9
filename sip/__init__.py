"""SIP user agents of our own: the test caller (`hotline call`) and the operator agent (pjsua2)."""
