"""The onsite admin page (Flask): comes with the admin-page issue; never touches hardware."""
