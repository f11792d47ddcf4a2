// Processor hints the Swift standard library does not expose; everything is inline in the header.
#include "CHints.h"
