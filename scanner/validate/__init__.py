"""Live validation, permission analysis and guarded revocation (DESIGN section 10, issue 19)."""
