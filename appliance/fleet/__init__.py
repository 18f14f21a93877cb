"""The district fleet: one signed card list for every door, lockdowns by school, events home.

Boxes and the district console talk only through an MQTT broker; boxes dial out. ``signing``
seals and opens envelopes, ``messages`` checks every field, ``topics`` names where things go,
``agent`` is the box's side (``doorward fleet-agent``) and ``console`` the district's.
"""
