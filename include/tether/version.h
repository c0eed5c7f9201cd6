/* SPDX-License-Identifier: BSD-3-Clause */
/* The version of tether, for programs and for the identity the target reports (INQUIRY). */
#ifndef TETHER_VERSION_H
#define TETHER_VERSION_H

#define TETHER_VERSION_MAJOR 0
#define TETHER_VERSION_MINOR 1
#define TETHER_VERSION_PATCH 0
#define TETHER_VERSION "0.1.0"
/* INQUIRY PRODUCT REVISION LEVEL: at most 4 characters */
#define TETHER_REVISION "0.1"

#endif
