"""The phases of a month, one module each, called in order by ``GovernanceModel.step``."""
