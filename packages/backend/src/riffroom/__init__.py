"""RiffRoom: split songs into stems and practise with them."""

__version__ = "0.1.0"
