//! `sixgate pcap decode`: 802.15.4 capture → raw IPv6 capture (placeholder until written).
