"""LSP handlers, one module per feature: each `register(server)` adds its features to the server;
a handler converts params with server/convert.py, calls one feature service, converts the result."""
