"""A strict emulator of Slack's incoming webhooks and Web API (chat.postMessage, auth.test)."""
