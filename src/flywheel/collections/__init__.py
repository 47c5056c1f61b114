"""Collections: strategies by credit grade, the daily dunning cycle, the outbox, promises to pay, disputes, arrangements, statements."""
