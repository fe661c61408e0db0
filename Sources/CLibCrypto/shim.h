#ifndef DROPHOOK_CLIBCRYPTO_SHIM_H
#define DROPHOOK_CLIBCRYPTO_SHIM_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/err.h>

#endif
