"""Small-business grants: plans, approval, tranches, repayment and the microbusiness's books."""
