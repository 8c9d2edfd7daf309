"""Version of mmpanoptic_cabb."""
__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """Parse a version string such as ``'0.1.0'`` or ``'0.1.0rc1'``.

    Args:
        version_str (str): The version string.

    Returns:
        tuple: Integers for the numeric parts, then the pre-release tag (if any).
    """
    parts = []
    for token in version_str.split('.'):
        if token.isdigit():
            parts.append(int(token))
        else:
            digits = ''.join(c for c in token if c.isdigit())
            rest = token[len(digits):]
            parts.extend([int(digits), rest])
    return tuple(parts)


version_info = parse_version_info(__version__)
