"""What happens after scoring (SPEC §6.1): advancing, review, retakes."""
