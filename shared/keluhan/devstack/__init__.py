"""The local stack: emulators, functions-framework processes, stand-ins. Never deployed."""
