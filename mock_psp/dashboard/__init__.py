"""The QA dashboard: pages under /_mock/ui to see and steer a namespace in the browser."""
