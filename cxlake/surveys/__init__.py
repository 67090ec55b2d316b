"""Survey exports as the tools write them (Qualtrics, 问卷星) and the mappings that give them meaning."""
