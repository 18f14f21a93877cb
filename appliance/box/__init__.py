"""What a box keeps in its data directory for its pages: the session secret, the setup code and the
TLS certificate. Provisioning, ``init`` and the admin page all use them from here."""
