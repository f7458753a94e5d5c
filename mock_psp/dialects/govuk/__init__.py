"""GOV.UK Pay's public API (v1) and its payment pages, mounted under /govuk."""
