"""The box's tables, each as session-level functions: cards, holders, groups, events, users..."""
