"""Receivables: invoices, installments, payments, allocations, credit notes and write-offs."""
