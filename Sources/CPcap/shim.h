#ifndef SMPPSCOPE_CPCAP_SHIM_H
#define SMPPSCOPE_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
