//! The keepalived.conf parser (to be written).
