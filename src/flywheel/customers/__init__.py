"""Customers: accounts, contacts, touchpoints and the customer 360."""
