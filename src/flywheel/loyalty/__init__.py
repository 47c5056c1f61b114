"""Loyalty and growth: RFM segments, retention, CLV, health, churn risk, referrals and the next
best action for every account."""
