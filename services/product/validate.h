/* validate.h - what an administrator may store in a product. Pure. */
#ifndef PRODUCT_VALIDATE_H
#define PRODUCT_VALIDATE_H

#define PRODUCT_NAME_MAX        255
#define PRODUCT_DESCRIPTION_MAX 10000
#define PRODUCT_IMAGE_URL_MAX   2048

/* NULL when acceptable, else a message naming the field. Lengths count
 * characters (UTF-8 code points) for name and description. */
const char *product_check_name(const char *name);
const char *product_check_description(const char *description);
/* A path under /static/ (no "..", no backslash, no control characters) or an
 * https:// URL with a host. */
const char *product_check_image_url(const char *url);

#endif
