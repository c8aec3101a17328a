-- Benchmark payloads: the JSON text of two commands, as the H5 page sends
-- them. small: a typical call; medium: an order with twelve items, CJK text
-- and the characters percent-coding cares about (& = % /).
local items = {
  '{"sku":"A1001","name":"有机绿茶 250g","qty":2,"price":39.9,"tags":["茶/饮品","买2送1"]}',
  '{"sku":"A1002","name":"手冲咖啡豆 & 滤纸套装","qty":1,"price":128,"tags":["咖啡"]}',
  '{"sku":"B2001","name":"保温杯 500ml","qty":1,"price":89.5,"tags":["杯/壶"]}',
  '{"sku":"B2002","name":"竹制餐具 4件套","qty":3,"price":25,"tags":["环保"]}',
  '{"sku":"C3001","name":"桂花乌龙 100% 原叶","qty":2,"price":58,"tags":["茶"]}',
  '{"sku":"C3002","name":"蜂蜜 a=b 500g","qty":1,"price":66.6,"tags":["食品"]}',
  '{"sku":"D4001","name":"帆布袋","qty":1,"price":19.9,"tags":["周边"]}',
  '{"sku":"D4002","name":"明信片 10张/套","qty":2,"price":15,"tags":["文创"]}',
  '{"sku":"E5001","name":"坚果礼盒 & 贺卡","qty":1,"price":168,"tags":["礼盒"]}',
  '{"sku":"E5002","name":"燕麦片 1kg","qty":2,"price":32.8,"tags":["早餐"]}',
  '{"sku":"F6001","name":"手工皂 3块","qty":1,"price":45,"tags":["洗护"]}',
  '{"sku":"F6002","name":"香薰蜡烛 50%off","qty":1,"price":79,"tags":["家居"]}',
}

return {
  small = '{"req":"H5Req_k3j2h1g0a","api":"getUserInfo","params":{"withCredentials":true,"lang":"zh_CN"}}',
  medium = '{"req":"H5Req_m9x8c7v6b","api":"createOrder","params":{"shopId":"S-2048","items":['
    .. table.concat(items, ",")
    .. '],"address":{"name":"张三","phone":"13800138000","detail":"上海市 浦东新区 世纪大道 100号 / 8楼"},'
    .. '"remark":"请在 18:00 前送达 & 不要辣; 备注=无","coupon":"SAVE10%"}}',
}
