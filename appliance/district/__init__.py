"""The district console: its own schema and state, the signed list it publishes, what it collects.

Code only the district uses lives here, never in the box's store; the box's side never imports it.
"""
