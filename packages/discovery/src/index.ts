export { Mdns, type Advertisement, type MdnsOptions } from './mdns.js';
export { ServiceBrowser, type BrowseOptions, type FoundService } from './browser.js';
export { findHub, DEFAULT_FIND_TIMEOUT_MS, type FindHubOptions, type FoundHub } from './find-hub.js';
export { DiscoveryError, DiscoveryErrorCodes, type DiscoveryErrorCode } from './errors.js';
export { parseMdnsSetting, defaultMdnsSetting, advertisedAddresses, type MdnsSetting } from './interfaces.js';
export {
  HUB_SERVICE,
  DEVICE_SERVICE,
  TXT_VERSION,
  hubTxt,
  deviceTxt,
  parseHubTxt,
  parseDeviceTxt,
  encodeTxt,
  decodeTxt,
  instanceLabel,
  type HubAdvert,
  type DeviceAdvert,
  type EnrollmentState,
  type Txt,
} from './services.js';
export type { ServiceAdvert } from './records.js';
