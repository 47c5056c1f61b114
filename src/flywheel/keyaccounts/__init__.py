"""Key accounts: the deals pipeline, account plans, stakeholder maps, needs, negotiations, the
cost of payment terms, contracts with post-contract follow-up."""
