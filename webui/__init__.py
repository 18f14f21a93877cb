"""The onsite admin page (Flask): arrives with the admin-page issue; nothing here touches hardware."""
