"""Full screens: lesson browser, reader, help, and the area screens (runs, devices, quiz)."""
