"""The transports: POST and WebSocket /rpc, the LiveKit webhook, CORS, health, the explorer."""
