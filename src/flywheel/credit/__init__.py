"""Credit: behavioural scores and grades, limits and checks, payment-date predictions."""
