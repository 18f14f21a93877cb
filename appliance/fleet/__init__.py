"""The district fleet: one signed card list for every door, lockdowns by school, events home.

Boxes and the district console talk only through an MQTT broker; boxes dial out. ``signing``
seals and opens envelopes, ``messages`` checks every field, ``topics`` names where things go,
``section`` checks a box's ``[fleet]`` config, ``link`` is the MQTT connection and ``agent`` the
box's side (``doorward fleet-agent``); the district's side is ``appliance.district``.
"""
