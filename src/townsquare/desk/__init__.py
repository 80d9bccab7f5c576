"""The curation desk: the queue of items entering the feed and the curators' actions."""
