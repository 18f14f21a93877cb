"""The district on a box: its list as applied (``apply``), the rows it owns (``district``) and the
link status the fleet agent last wrote (``link``)."""
