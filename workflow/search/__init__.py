"""Polish-aware full-text search over documents and the archive: lemmas (morfeusz2), proper
nouns apart, folded diacritics; SQLite FTS5 or PostgreSQL tsvector + GIN."""
