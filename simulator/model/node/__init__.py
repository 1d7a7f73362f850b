"""The node: its processor-shared CPU cores and links (``fluid``), the node object that owns
locks, IPAM, process counts and memory (``node``), and the faults injected on it (``faults``)."""
