"""The embedded demo: synthetic motion data, IMG vs TSN via mim, report."""
