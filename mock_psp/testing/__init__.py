"""What the pytest plugin (mock_psp/pytest_plugin.py) hands a test: the session's servers, a fresh
namespace with its clock and delivery log, the test merchant, and the server-side error log.
Every control call goes through the one control API client (mock_psp/client)."""
