"""The MCP server front end (`notes mcp`): the notes as read-only tools for AI agents."""
