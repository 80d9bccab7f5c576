"""The moderators' queue and their actions on posts."""
