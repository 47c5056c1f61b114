"""Pure maths on arrays and data frames: no session, no ORM, no HTTP, no clock."""
