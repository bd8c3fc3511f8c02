"""Chat platforms. Each subpackage is the only importer of its SDK; none imports another."""
