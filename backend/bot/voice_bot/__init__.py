"""module-voice Pipecat interview bot."""
