"""Name material for the demo city: places, enterprises, streets and people.

Districts carry their real administrative division codes and approximate centres;
enterprise, community and person names are invented (no real company or resident).
"""

from __future__ import annotations

# (code, name_zh, name_en, centre lon, centre lat)
REGION = ("150000", "内蒙古自治区", "Inner Mongolia Autonomous Region")
CITIES = {
    "hohhot": ("150100", "呼和浩特市", "Hohhot", 111.70, 40.82, "0471"),
    "baotou": ("150200", "包头市", "Baotou", 109.90, 40.63, "0472"),
}
COUNTIES = {
    "hohhot": [
        ("150102", "新城区", "Xincheng District", 111.70, 40.87),
        ("150103", "回民区", "Huimin District", 111.62, 40.82),
        ("150104", "玉泉区", "Yuquan District", 111.66, 40.76),
        ("150105", "赛罕区", "Saihan District", 111.76, 40.79),
    ],
    "baotou": [
        ("150203", "昆都仑区", "Kundulun District", 109.82, 40.65),
        ("150204", "青山区", "Qingshan District", 109.90, 40.66),
        ("150202", "东河区", "Donghe District", 110.03, 40.58),
        ("150207", "九原区", "Jiuyuan District", 109.96, 40.60),
    ],
}
ENTERPRISES = {
    "hohhot": [
        ("青城热力有限责任公司", "Qingcheng Heating Co., Ltd."),
        ("大青山供热有限公司", "Daqingshan Heat Supply Co., Ltd."),
        ("敕勒川热电有限公司", "Chilechuan Thermal Power Co., Ltd."),
        ("昭君热力有限公司", "Zhaojun Heating Co., Ltd."),
    ],
    "baotou": [
        ("鹿城热力有限责任公司", "Lucheng Heating Co., Ltd."),
        ("钢城供热有限公司", "Gangcheng Heat Supply Co., Ltd."),
    ],
}
COMMUNITY_PREFIXES = [
    ("青城", "Qingcheng"),
    ("锦绣", "Jinxiu"),
    ("滨河", "Binhe"),
    ("如意", "Ruyi"),
    ("大召", "Dazhao"),
    ("丰州", "Fengzhou"),
    ("北垣", "Beiyuan"),
    ("海东", "Haidong"),
    ("府兴", "Fuxing"),
    ("兴安", "Xing'an"),
    ("金桥", "Jinqiao"),
    ("巨海", "Juhai"),
    ("塞外", "Saiwai"),
    ("阳光", "Yangguang"),
    ("幸福", "Xingfu"),
    ("祥和", "Xianghe"),
    ("朝阳", "Chaoyang"),
    ("民族", "Minzu"),
    ("草原", "Caoyuan"),
    ("云中", "Yunzhong"),
    ("敕勒", "Chile"),
    ("白塔", "Baita"),
    ("通达", "Tongda"),
    ("春华", "Chunhua"),
]
COMMUNITY_SUFFIXES = [
    ("花园", "Garden"),
    ("家园", "Homeland"),
    ("新村", "New Village"),
    ("苑", "Court"),
    ("嘉园", "Jiayuan"),
    ("小区", "Estate"),
    ("公寓", "Apartments"),
    ("名都", "Mingdu"),
]
ROADS = [
    ("新华大街", "Xinhua Street"),
    ("中山路", "Zhongshan Road"),
    ("锡林郭勒路", "Xilinguole Road"),
    ("昭乌达路", "Zhaowuda Road"),
    ("成吉思汗大街", "Genghis Khan Street"),
    ("大学西街", "Daxue West Street"),
    ("鄂尔多斯大街", "Ordos Street"),
    ("兴安北路", "Xing'an North Road"),
    ("乌兰察布路", "Ulanqab Road"),
    ("通道街", "Tongdao Street"),
    ("钢铁大街", "Gangtie Street"),
    ("阿尔丁大街", "Arding Street"),
]
SURNAMES = list(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
SURNAMES += ["欧阳", "乌兰", "巴图"]
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉梅建国志红")
GIVEN += list("文斌海燕国庆晓东鹏飞宇浩然子涵雨桐欣怡婷婷巴特尔其其格")
PHONE_PREFIXES = [
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "158",
    "159",
    "176",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "198",
]
ROOMS = ["living_room", "master_bedroom", "second_bedroom"]
SENSOR_MODELS = ["NL-TH20", "NL-TH20W", "HT-TRH100", "ZC-WS01"]
