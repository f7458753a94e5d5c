"""GovPay+ (Sri Lanka), mounted under /govpay-lk: the provider calls the merchant (presentment, update)."""
